# The two commands of the README: `make run` (all-reduce benchmark on 4 local ranks) and
# `make test` (the whole suite through ctest). Both install missing packages first.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=
NP ?= 4

.PHONY: all deps configure build run test clean

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

clean:
	rm -rf $(BUILD)
