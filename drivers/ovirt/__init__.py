"""The oVirt Engine REST API v4 backend (driver.OvirtDriver) and its simulator (simulator/)."""
