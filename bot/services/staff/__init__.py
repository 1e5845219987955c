"""Registry staff: who they are (access), what they typed (args), what they look up (search),
and the doctor's time they close and reopen (closures)."""
