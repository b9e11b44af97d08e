/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_CLI_H
#define AGENTKPI_CLI_H

/*
 * The composition root: wires configuration, the database pool, the
 * route table of api/ and the HTTP layer into a running service, and the
 * command-line interface around it.
 */

#include "app.h"
#include "config.h"
#include "err.h"

struct service;

/*
 * Starts the service with cfg (taken over: released by service_stop).
 * Refuses to start when migrations are pending unless migrate is set, in
 * which case it applies them first. Returns NULL with err filled.
 */
struct service *service_start(struct config *cfg, int migrate, struct err *err);

/* The bound HTTP port. */
int service_port(const struct service *svc);

/* The service's database pool (for tests and tools). */
struct db *service_db(const struct service *svc);

/*
 * The first half of a graceful stop: refuses new connections, waits up to
 * shutdown_timeout_ms for the requests in flight, and cancels the database
 * work of those still running after that. Returns how many were still in
 * flight (also logged). service_stop must follow.
 */
int service_drain(struct service *svc);

/* Stops HTTP, then the worker, closes the pool and frees svc. */
void service_stop(struct service *svc);

/* Runs the command line; returns the process exit status. */
int cli_run(int argc, char **argv);

#endif
