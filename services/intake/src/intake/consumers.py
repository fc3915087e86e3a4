"""Intake's subscriptions to casework: approvals, links, assignments and the
investigation's steps (started, closed, decided)."""

from intake.applications import service as applications
from intake.citizens import service as citizens
from intake.representations import service as representations
from shared.contracts import casework as cw
from shared.inbox import InboxConsumer


def subscribe(consumer: InboxConsumer) -> None:
    # One subscription per topic: two in one consumer group would split its partitions.
    consumer.subscribe(
        cw.PERSONS_TOPIC,
        {
            cw.RelatedPersonApproved: representations.on_approved,
            cw.RelatedPersonApprovalChanged: representations.on_approved,
            cw.RelatedPersonApprovalRevoked: representations.on_revoked,
        },
    )
    consumer.subscribe(cw.APPLICATIONS_TOPIC, {cw.ApplicationLinked: applications.on_linked})
    consumer.subscribe(
        cw.CASES_TOPIC,
        {
            cw.CaseworkerAssigned: citizens.on_caseworker_assigned,
            cw.InvestigationStarted: applications.on_investigation_started,
            cw.IntakeRecordClosed: applications.on_record_closed,
            cw.DecisionMade: applications.on_decision_made,
        },
    )
