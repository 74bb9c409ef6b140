"""Model kinds behind one protocol: ``build_model(spec, task_type=..., seed=...)``."""
