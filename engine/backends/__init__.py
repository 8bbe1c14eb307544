"""Model backends behind two small interfaces: instructors (write and label questions) and solvers (the base model)."""
