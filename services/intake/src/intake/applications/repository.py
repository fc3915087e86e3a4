"""Queries of e-applications."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from intake.models import Application


def add(session: AsyncSession, application: Application) -> None:
    session.add(application)


async def list_for_applicant(session: AsyncSession, pnr: str) -> list[Application]:
    query = (select(Application).where(Application.applicant_pnr == pnr)
             .options(selectinload(Application.services))
             .order_by(Application.submitted_at.desc(), Application.id.desc()))
    return list(await session.scalars(query))
