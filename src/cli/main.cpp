// faultline: the command-line client for faultline-server (and Toxiproxy).
#include "cli/CommandLine.h"

int main(int argc, char** argv) { return faultline::cli::run(argc, argv); }
