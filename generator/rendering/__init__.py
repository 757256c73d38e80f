"""A checked spec into Kubernetes objects: the parameters the jsonnet templates take, the
settings of the suggestion service, and the validated, deterministic files under rendered/."""
