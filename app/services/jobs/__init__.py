"""Jobs and what they produce: results, RD points, leaderboard, viewer, the codec and metric catalogue."""
