# The two commands of the README do all set-up on a fresh machine:
#   make demo   the main job: the first seed's scenario on the default engine
#   make test   every test (Docker ones included: they fail without Docker)
#
# IMAGES picks the image column of ci/engines.toml: local (offline stand-ins,
# built here by `make images`), official (pulled), or auto.
IMAGES ?= local
ENGINE ?=
SCENARIO ?= ci-inline-cache
SCENARIO_OVERHEAD ?= cache-mount-copy
CARGO ?= cargo
HARNESS = $(CARGO) run --quiet -p harness --
ENGINE_FLAG = $(if $(ENGINE),--engine $(ENGINE),)

.PHONY: demo test test-faults test-slow test-tools docker images images-if-local scenarios matrix lint bench bench-overhead clean-docker

demo: docker images-if-local
	$(HARNESS) run $(SCENARIO) $(ENGINE_FLAG) --images $(IMAGES)

test: docker images-if-local test-tools
	$(CARGO) test -p harness

# Chromium, xmllint and check-jsonschema for the report and CI-file tests.
test-tools:
	@ci/test-tools

# Faults and interrupts (Docker; a dind killed mid-build, the registry
# stopping during a push, a hung build, SIGINT at three points, kill -9 then
# `harness clean`): about 10 min on 2 cores. .ci/run runs it after `make test`.
test-faults: docker images-if-local
	$(CARGO) test -p harness --test cli_faults --test cli_interrupt --test cli_clean -- --ignored --test-threads 1

# The slow Docker tests kept out of `make test` (reproduction packs run end
# to end, cache-record recording): about 25 min on 2 cores.
test-slow: docker images-if-local test-tools
	$(CARGO) test -p harness -- --ignored

# Start a Docker daemon when none answers (root on Debian), else do nothing.
docker:
	@ci/docker-up

images: docker
	$(HARNESS) images build

images-if-local:
	@if [ "$(IMAGES)" != official ]; then $(MAKE) --no-print-directory images; fi

# Every shipped scenario on every stand-in engine, one summary at the end.
scenarios: docker images-if-local
	$(HARNESS) run --all --all-engines --images $(IMAGES)

# The whole local matrix: every shipped scenario × the three stand-in engines
# × both image stores, the four reports in .harness/matrix (47 min on an idle
# 2-core machine, two cells side by side). MATRIX_FLAGS adds options:
# --parallel K, --scenarios A,B, ...
MATRIX_ENGINES ?= 20.10.24,26.1.5,28.5.2
MATRIX_FLAGS ?=
matrix: docker images-if-local
	$(HARNESS) matrix --engines $(MATRIX_ENGINES) --store both --images $(IMAGES) --out .harness/matrix $(MATRIX_FLAGS)

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy -p harness --all-targets -- -D warnings

bench:
	$(CARGO) bench -p harness

# Harness vs a plain docker-CLI script per CI job, dind ready times, seeding
# (Docker; about 15 min). SCENARIO and ENGINE pick the pipeline.
bench-overhead: docker images-if-local
	ci/bench-overhead $(SCENARIO_OVERHEAD) $(ENGINE)

# Remove whatever a killed run left on the host daemon (labelled resources).
clean-docker:
	@ids=$$(docker ps -aq --filter label=org.testcontainers.managed-by=testcontainers); \
	  [ -z "$$ids" ] || docker rm -f -v $$ids
