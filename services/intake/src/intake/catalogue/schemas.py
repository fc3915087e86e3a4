from typing import Literal

from pydantic import BaseModel, ConfigDict


class CatalogueEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    entry: Literal["sol", "lss", "ifo"]
    category: str
