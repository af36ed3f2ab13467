"""Authorities (central and executing), their users and roles: the directory."""
