"""Products: the outlook, alerts, scenarios and the HTML page."""
