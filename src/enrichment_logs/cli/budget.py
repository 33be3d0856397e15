"""`enrichment-logs budget`: spend today and this month against the budget limits.

It reads the log the way a starting pipeline restores its budgets (`guards/restore.py`), so it
shows what the pipeline will count: the known costs of the current UTC day and month, globally,
per provider and per lead, against the limits of `--budgets` or `ENRICHMENT_LOGS_BUDGETS`.
Works while a pipeline writes the database (from what it publishes).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from enrichment_logs.cli.log_options import add_db_argument, db_of, reads_the_log

if TYPE_CHECKING:
    from enrichment_logs.guards.budget import Account, Spend

TOP_LEADS = 5


def register(commands: argparse._SubParsersAction[Any]) -> None:
    budget = commands.add_parser(
        "budget",
        help="spend today and this month against the budget limits",
        description="Spend of the current UTC day and month, globally, per provider and per "
        "lead, against the budget limits.",
    )
    add_db_argument(budget)
    budget.add_argument(
        "--budgets",
        metavar="LIMITS",
        help="the limits, e.g. daily=50,monthly=1000,exa.daily=5,lead.daily=0.50 "
        "(default: ENRICHMENT_LOGS_BUDGETS)",
    )
    budget.set_defaults(handler=run)


@reads_the_log("budget")
def run(args: argparse.Namespace) -> int:
    from enrichment_logs.analytics.connection import reading
    from enrichment_logs.config import Settings
    from enrichment_logs.guards.budget import BudgetBook
    from enrichment_logs.guards.restore import restore_spend

    settings = Settings.load({"budgets": args.budgets})
    now = datetime.now(UTC)
    db = db_of(args)
    with reading(db) as connection:
        restored = restore_spend(
            lambda sql, parameters: connection.execute(sql, parameters).fetchall(), now
        )
    book = BudgetBook(settings.budgets.limits, settings.budget_warnings, clock=lambda: now)
    book.restore("day", restored.day)
    book.restore("month", restored.month)
    print(render(str(db), now, book.accounts(), restored.day, restored.month))
    return 0


def render(db: str, now: datetime, accounts: Sequence[Account], day: Spend, month: Spend) -> str:
    lines = [f"Spend in {db}: UTC day {now:%Y-%m-%d}, month {now:%Y-%m}", ""]
    if accounts:
        lines.append(f"{'limit':<36} {'spent USD':>12} {'limit USD':>12} {'used':>7}")
        order = {"global": 0, "provider": 1, "lead": 2}
        shown = sorted(
            accounts,
            key=lambda a: (a.limit.period, order[a.limit.scope], a.limit.provider, -a.spent),
        )
        leads_shown: dict[tuple[str, str], int] = {}
        for account in shown:
            if account.key:  # a lead: only the highest spenders of each lead limit
                slot = (account.limit.period, account.limit.scope)
                leads_shown[slot] = leads_shown.get(slot, 0) + 1
                if leads_shown[slot] > TOP_LEADS:
                    continue
            amount = account.limit.amount
            used = f"{account.spent / amount:.1%}" if amount else "-"
            lines.append(f"{account.name:<36} {account.spent:>12.6f} {amount:>12.6f} {used:>7}")
        lines.append("")
    else:
        lines += [
            "No budget limits are set (--budgets or ENRICHMENT_LOGS_BUDGETS, "
            "e.g. daily=50,monthly=1000,exa.daily=5,lead.daily=0.50).",
            "",
        ]
    lines.append(f"{'provider':<36} {'today USD':>12} {'month USD':>12}")
    providers = sorted(key for scope, key in month.amounts if scope == "provider")
    for provider in providers:
        today = day.amounts.get(("provider", provider), Decimal(0))
        lines.append(
            f"{provider:<36} {today:>12.6f} {month.amounts[('provider', provider)]:>12.6f}"
        )
    total_today = day.amounts.get(("global", ""), Decimal(0))
    total_month = month.amounts.get(("global", ""), Decimal(0))
    lines.append(f"{'all providers':<36} {total_today:>12.6f} {total_month:>12.6f}")
    return "\n".join(lines)
