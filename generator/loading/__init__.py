"""Text into typed data: YAML 1.2 with every node's position, a definition into
`generator.spec`'s models, and the repository's configuration (clusters, images)."""
