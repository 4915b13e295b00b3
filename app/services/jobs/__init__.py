"""Jobs and what they produce: creation, results, RD points, leaderboard, viewer, codec and metric catalogue, model submissions, reference curves."""
