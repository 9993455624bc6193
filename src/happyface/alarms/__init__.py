"""Alarms: confirmed status changes of modules and categories, notified once, through channels.

The functions below are what the web and the CLI use; `service.AlarmService` is the Runner
observer that detects and notifies after each run.
"""

from .api import (
    acknowledge,
    acknowledgement_history,
    active_acknowledgements,
    alarm_states,
    cancel_downtime,
    downtimes,
    downtimes_at,
    in_downtime,
    notification_log,
    schedule_downtime,
    withdraw_acknowledgement,
)
from .records import Acknowledgement, Downtime, Message, Notification, Subject

__all__ = [
    "Acknowledgement",
    "Downtime",
    "Message",
    "Notification",
    "Subject",
    "acknowledge",
    "acknowledgement_history",
    "active_acknowledgements",
    "alarm_states",
    "cancel_downtime",
    "downtimes",
    "downtimes_at",
    "in_downtime",
    "notification_log",
    "schedule_downtime",
    "withdraw_acknowledgement",
]
