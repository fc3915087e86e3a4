"""Casework: persons, intake records, relations and approvals, cases, decisions and documents,
orders to providers and fees — and the shared e-application inbox."""

from pathlib import Path

from casework.cases.endpoints import router as cases_router
from casework.config import Settings
from casework.consumers import subscribe
from casework.decisions.endpoints import router as decisions_router
from casework.documents.endpoints import router as documents_router
from casework.e_applications.endpoints import router as e_applications_router
from casework.fees.endpoints import router as fees_router
from casework.intake_records.endpoints import router as intake_records_router
from casework.journal.endpoints import router as journal_router
from casework.orders.endpoints import router as orders_router
from casework.persons.endpoints import router as persons_router
from casework.providers.endpoints import router as providers_router
from casework.relations.endpoints import router as relations_router
from casework.staff.endpoints import router as staff_router
from shared.contracts import casework as events
from shared.service_app import ServiceSpec, create_service_app

app = create_service_app(
    ServiceSpec(
        name="casework",
        title="Omsorg casework",
        description="Caseworkers handle e-applications, persons, intake records and cases.",
        settings=Settings(),
        service_dir=Path(__file__).resolve().parents[2],
        routers=[
            e_applications_router,
            # Before intake records: the documents module answers every /documents/{id} route.
            documents_router,
            intake_records_router,
            persons_router,
            relations_router,
            staff_router,
            journal_router,
            cases_router,
            decisions_router,
            providers_router,
            orders_router,
            fees_router,
        ],
        publishes=[
            events.ApplicationLinked,
            events.CaseworkerAssigned,
            events.CoCaseworkerAdded,
            events.CoCaseworkerRemoved,
            events.EServiceSettingsChanged,
            events.RelatedPersonApproved,
            events.RelatedPersonApprovalChanged,
            events.RelatedPersonApprovalRevoked,
            events.MessageJournaled,
            events.InvestigationStarted,
            events.IntakeRecordClosed,
            events.DecisionMade,
            events.EServiceDeliveryRequested,
            events.OrderPlaced,
        ],
        subscribe=subscribe,
    )
)
