# Thin wrapper over CMake and ctest. The two commands a newcomer needs:
#   make test   install dependencies, build, run every test (ctest)
#   make run    install dependencies, build, run cqlmqd on the embedded node
BUILD ?= build
GENERATOR ?= Ninja
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test test-unit run bench clean

all: build

deps:
	@sh deploy/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-unit: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

run: build
	$(BUILD)/bin/cqlmqd --embedded

bench: build
	@sh bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
