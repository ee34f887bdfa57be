# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Links in emails point at the server this starts (honcho gives the worker and beat
# their own PORT, so they are told SITE_URL rather than work it out).
SITE_URL ?= http://127.0.0.1:$(PORT)
DEMO_PASSWORD ?= clinic-demo-2026
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck messages check-deploy bench bench-pages bench-records bench-followup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --password "$(DEMO_PASSWORD)"
	@echo ""
	@echo "  Clinic dashboard: http://127.0.0.1:$(PORT)/"
	@echo "  Demo logins (password: $(DEMO_PASSWORD)):"
	@echo "    demo-therapist, demo-therapist2, demo-frontdesk, demo-manager"
	@echo "  Emails are written to var/mail/. Ctrl-C stops the web server, worker and beat."
	@echo ""
	PATH="$(abspath $(BIN)):$$PATH" PORT=$(PORT) SITE_URL=$(SITE_URL) $(BIN)/honcho start -f Procfile

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# Patient-facing words: refresh locale/*/LC_MESSAGES/django.po from the templates and code,
# then compile the .mo files (both committed). Needs GNU gettext; README "Languages".
MESSAGES_IGNORE := -i ".venv/*" -i "var/*" -i "tests/*" -i "bench/*" -i "staticfiles/*" -i "build/*"
messages: $(STAMP)
	$(BIN)/python manage.py makemessages --all --add-location file $(MESSAGES_IGNORE)
	$(BIN)/python manage.py compilemessages $(MESSAGES_IGNORE)

typecheck: $(STAMP)
	$(BIN)/mypy

check-deploy: $(STAMP)
	DJANGO_ENV=production SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" ALLOWED_HOSTS=clinic.example.org \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

bench: $(STAMP)
	$(BIN)/python bench/reminders.py $(BENCH_ARGS)

# Every page timed at two data sizes on PostgreSQL (bench/pages.py; DATABASE_URL names the
# server, default postgres://postgres@127.0.0.1:5432). E.g. BENCH_ARGS="--iterations 5".
bench-pages: $(STAMP)
	$(BIN)/python bench/pages.py $(BENCH_ARGS)

# Audit log, audit CSV export, patient page and outcome chart with a clinic group's data
# (bench/records.py); set DATABASE_URL to a scratch PostgreSQL database.
bench-records: $(STAMP)
	$(BIN)/python bench/records.py $(BENCH_ARGS)

# "Book a follow-up" before (47f6c0d^1, checked out in ../followup-old or --old-tree) and
# after, in Chromium against gunicorn on PostgreSQL (bench/book_followup.py).
bench-followup: $(STAMP)
	$(BIN)/python bench/book_followup.py $(BENCH_ARGS)

clean:
	rm -rf var/broker var/celery-results var/mail
