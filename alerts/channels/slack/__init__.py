"""Everything that speaks Slack: rendering, the Web API and webhook channels, and the buttons' clicks."""
