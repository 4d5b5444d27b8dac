"""Contains all the data models used in inputs/outputs"""

from .batch_accepted import BatchAccepted
from .batch_result import BatchResult
from .batch_result_status import BatchResultStatus
from .channel import Channel
from .channel_switches import ChannelSwitches
from .channel_totals import ChannelTotals
from .condition import Condition
from .condition_any_type_0_item_type_0 import ConditionAnyType0ItemType0
from .condition_any_type_0_item_type_1 import ConditionAnyType0ItemType1
from .condition_not_type_0_item_type_0 import ConditionNotType0ItemType0
from .condition_not_type_0_item_type_1 import ConditionNotType0ItemType1
from .controls import Controls
from .controls_frequency_caps import ControlsFrequencyCaps
from .delay_step import DelayStep
from .directory_movie import DirectoryMovie
from .directory_user import DirectoryUser
from .directory_user_locale import DirectoryUserLocale
from .email_template import EmailTemplate
from .engagement import Engagement
from .engagement_request import EngagementRequest
from .engagement_request_action import EngagementRequestAction
from .engagement_times import EngagementTimes
from .engagement_view import EngagementView
from .error_item import ErrorItem
from .error_list import ErrorList
from .event_accepted import EventAccepted
from .event_batch import EventBatch
from .event_batch_batch_event import EventBatchBatchEvent
from .event_cancelled import EventCancelled
from .event_payload import EventPayload
from .event_request import EventRequest
from .event_status import EventStatus
from .event_view import EventView
from .event_view_counts import EventViewCounts
from .fan_out_view import FanOutView
from .health_answer import HealthAnswer
from .health_answer_status import HealthAnswerStatus
from .issued_key_view import IssuedKeyView
from .key_list import KeyList
from .key_request import KeyRequest
from .key_view import KeyView
from .last_run import LastRun
from .notification_page import NotificationPage
from .notification_status import NotificationStatus
from .notification_view import NotificationView
from .preferences_document import PreferencesDocument
from .preferences_document_workflows import PreferencesDocumentWorkflows
from .preview_request import PreviewRequest
from .preview_request_locale_type_0 import PreviewRequestLocaleType0
from .preview_view import PreviewView
from .push_template import PushTemplate
from .quiet_hours_document import QuietHoursDocument
from .rendered_email import RenderedEmail
from .rendered_push import RenderedPush
from .rendered_sms import RenderedSms
from .run_step_view import RunStepView
from .run_view import RunView
from .run_view_state import RunViewState
from .schedule_page import SchedulePage
from .schedule_patch import SchedulePatch
from .schedule_state import ScheduleState
from .schedule_view import ScheduleView
from .scope import Scope
from .send_step import SendStep
from .sms_template import SmsTemplate
from .stats_figures import StatsFigures
from .stats_item import StatsItem
from .stats_view import StatsView
from .subscriber_page import SubscriberPage
from .subscriber_view import SubscriberView
from .subscribers_change import SubscribersChange
from .subscribers_changed import SubscribersChanged
from .suppression_page import SuppressionPage
from .suppression_request import SuppressionRequest
from .suppression_view import SuppressionView
from .templates import Templates
from .templates_email import TemplatesEmail
from .templates_push import TemplatesPush
from .templates_sms import TemplatesSms
from .topic_page import TopicPage
from .topic_request import TopicRequest
from .topic_view import TopicView
from .tracking import Tracking
from .upserted import Upserted
from .version_summary import VersionSummary
from .wait_step import WaitStep
from .workflow_definition import WorkflowDefinition
from .workflow_page import WorkflowPage
from .workflow_saved import WorkflowSaved
from .workflow_state import WorkflowState
from .workflow_summary import WorkflowSummary
from .workflow_version_view import WorkflowVersionView
from .workflow_view import WorkflowView

__all__ = (
    "BatchAccepted",
    "BatchResult",
    "BatchResultStatus",
    "Channel",
    "ChannelSwitches",
    "ChannelTotals",
    "Condition",
    "ConditionAnyType0ItemType0",
    "ConditionAnyType0ItemType1",
    "ConditionNotType0ItemType0",
    "ConditionNotType0ItemType1",
    "Controls",
    "ControlsFrequencyCaps",
    "DelayStep",
    "DirectoryMovie",
    "DirectoryUser",
    "DirectoryUserLocale",
    "EmailTemplate",
    "Engagement",
    "EngagementRequest",
    "EngagementRequestAction",
    "EngagementTimes",
    "EngagementView",
    "ErrorItem",
    "ErrorList",
    "EventAccepted",
    "EventBatch",
    "EventBatchBatchEvent",
    "EventCancelled",
    "EventPayload",
    "EventRequest",
    "EventStatus",
    "EventView",
    "EventViewCounts",
    "FanOutView",
    "HealthAnswer",
    "HealthAnswerStatus",
    "IssuedKeyView",
    "KeyList",
    "KeyRequest",
    "KeyView",
    "LastRun",
    "NotificationPage",
    "NotificationStatus",
    "NotificationView",
    "PreferencesDocument",
    "PreferencesDocumentWorkflows",
    "PreviewRequest",
    "PreviewRequestLocaleType0",
    "PreviewView",
    "PushTemplate",
    "QuietHoursDocument",
    "RenderedEmail",
    "RenderedPush",
    "RenderedSms",
    "RunStepView",
    "RunView",
    "RunViewState",
    "SchedulePage",
    "SchedulePatch",
    "ScheduleState",
    "ScheduleView",
    "Scope",
    "SendStep",
    "SmsTemplate",
    "StatsFigures",
    "StatsItem",
    "StatsView",
    "SubscriberPage",
    "SubscribersChange",
    "SubscribersChanged",
    "SubscriberView",
    "SuppressionPage",
    "SuppressionRequest",
    "SuppressionView",
    "Templates",
    "TemplatesEmail",
    "TemplatesPush",
    "TemplatesSms",
    "TopicPage",
    "TopicRequest",
    "TopicView",
    "Tracking",
    "Upserted",
    "VersionSummary",
    "WaitStep",
    "WorkflowDefinition",
    "WorkflowPage",
    "WorkflowSaved",
    "WorkflowState",
    "WorkflowSummary",
    "WorkflowVersionView",
    "WorkflowView",
)
