"""Who may call provider's routes, as dependencies endpoints declare. Whether a
provider user is still active, and of which provider, is checked in the service
layer (provider.users.service), against provider's own register."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Role, User, require_role

Admin = Annotated[User, Depends(require_role(Role.ADMIN))]
ProviderStaff = Annotated[User, Depends(require_role(Role.PROVIDER, Role.PROVIDER_MANAGER))]
ProviderManager = Annotated[User, Depends(require_role(Role.PROVIDER_MANAGER))]
AdminOrProviderStaff = Annotated[
    User, Depends(require_role(Role.ADMIN, Role.PROVIDER, Role.PROVIDER_MANAGER))
]
AdminOrProviderManager = Annotated[User, Depends(require_role(Role.ADMIN, Role.PROVIDER_MANAGER))]
