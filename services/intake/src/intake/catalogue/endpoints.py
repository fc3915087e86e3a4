"""The public service catalogue (no login needed)."""

from fastapi import APIRouter

from intake.catalogue import service
from intake.catalogue.schemas import CatalogueEntry
from shared.db import Session

router = APIRouter(tags=["catalogue"])


@router.get("/catalogue")
async def get_catalogue(session: Session) -> list[CatalogueEntry]:
    """Services a citizen can apply for (entry sol/lss) and the portal's other e-services (ifo)."""
    return [CatalogueEntry.model_validate(row) for row in await service.list_all(session)]
