"""The alarm pages and forms: notifications, acknowledgements, downtimes, and who may see them."""
