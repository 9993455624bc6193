"""Alarms: confirmed status changes of modules and categories, notified once, through channels.

The functions below are what the web and the CLI use; `service.AlarmService` is the Runner
observer that detects and notifies after each run.
"""

from .ack import (
    acknowledge,
    acknowledgement_history,
    active_acknowledgements,
    withdraw_acknowledgement,
)
from .downtime import (
    cancel_downtime,
    downtimes,
    downtimes_at,
    in_downtime,
    manual_downtime,
    schedule_downtime,
)
from .records import Acknowledgement, Downtime, Message, Notification, Subject
from .store import alarm_states, notification_log

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
    "manual_downtime",
    "notification_log",
    "schedule_downtime",
    "withdraw_acknowledgement",
]
