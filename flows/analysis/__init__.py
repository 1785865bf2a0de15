"""On-premise analysis runs: the researchers' code in the sandbox, the checks of its outputs,
and the reviewers' sign-off before anything leaves."""
