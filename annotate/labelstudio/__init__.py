"""Everything that talks to Label Studio: the embedded server, the SDK client, project, push and pull.

This is the only package that imports label_studio_sdk.
"""
