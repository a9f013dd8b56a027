"""Pipeline configuration: the pydantic models, the position-keeping YAML source, the validator with
located diagnostics, the JSON Schema export and component introspection.
"""
