"""Who is alerted where: projections of casework's facts (alert settings,
related persons' approvals, the units handling a person) and the recipient rule."""
