/* SPDX-License-Identifier: MIT */
/*
 * agentkpi: metrics for AI customer-support agents. Entry point only;
 * the commands live in cli.c.
 */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_run(argc, argv);
}
