"""Insights over governed metrics: why questions, anomaly scans, summaries and alerts (智能预警)."""
