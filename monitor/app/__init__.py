"""The application floor: the pipeline, the scheduler, the Slack endpoint, the demo.

It stands on collectors, classifiers and alerts, and returns reports that the CLI prints;
it never imports the CLI."""
