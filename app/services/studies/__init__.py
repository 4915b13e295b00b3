"""Human studies and what comes of them: answers and scales, imports, crops, correlation reports, gMAD."""
