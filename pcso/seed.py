"""Deterministic demo data: `flask seed-demo`. (Placeholder until written in full.)"""
import click
from flask.cli import with_appcontext


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True)
@click.option("--force", is_flag=True)
@with_appcontext
def seed_demo_command(if_empty, force):
    click.echo("seed-demo: not yet written")
