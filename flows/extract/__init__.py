"""The extract runs: the sample export, the on-premise build and the control export, their
tasks, slices and checks of the sources."""
