"""Human studies and what is computed from them: sessions and answers, imports, crops, crop scores, correlation reports, gMAD."""
