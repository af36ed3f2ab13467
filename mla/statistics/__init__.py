"""Statistics on requests (Plan of Action II.1h) and completion estimates."""
