"""Alarms: confirmed status changes of modules and categories, notified once, through channels.

The functions below are what the web and the CLI use; `service.AlarmService` is the Runner
observer that detects and notifies after each run. They load on first use, so reading the
alarm configuration (`alarms.config`) does not import the database layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
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

#: public name -> the module of this package that defines it
_HOMES = {
    "Acknowledgement": "records",
    "Downtime": "records",
    "Message": "records",
    "Notification": "records",
    "Subject": "records",
    "acknowledge": "ack",
    "acknowledgement_history": "ack",
    "active_acknowledgements": "ack",
    "alarm_states": "store",
    "cancel_downtime": "downtime",
    "downtimes": "downtime",
    "downtimes_at": "downtime",
    "in_downtime": "downtime",
    "manual_downtime": "downtime",
    "notification_log": "store",
    "schedule_downtime": "downtime",
    "withdraw_acknowledgement": "ack",
}

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

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
