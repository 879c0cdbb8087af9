# The two commands of the README: `make run` (all-reduce benchmark on 4 local ranks) and
# `make test` (the whole suite through ctest). Both install missing packages first.
# Reliability (docs/reliability.md): `make fuzz` (each libFuzzer harness FUZZ_SECONDS s),
# `make sanitize` (ASan+UBSan and TSan builds of the unit and multi-process tests),
# `make soak` (10^4 random collectives on 4 CPU ranks) and `make soak-long` (10^5).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=
NP ?= 4
FUZZ_SECONDS ?= 30

.PHONY: all deps configure build run test clean fuzz sanitize soak soak-long

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_ARGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./scripts/run-allreduce.sh $(BUILD) $(NP)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 600

fuzz: deps
	./scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

sanitize: deps
	./scripts/sanitizers.sh

soak: build
	$(BUILD)/tests/soak/soak_test

soak-long: build
	TUTTI_SOAK_CALLS=100000 $(BUILD)/tests/soak/soak_test

clean:
	rm -rf $(BUILD)
