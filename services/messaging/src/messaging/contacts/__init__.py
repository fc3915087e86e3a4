"""Contact lists: a staff member's own named lists of recipients (MS-5)."""
