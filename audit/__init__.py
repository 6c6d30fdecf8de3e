"""What an auditor or inspector checks: the hash chain, the Merkle tree, signed checkpoints, exports,
the dispute dossier (争议卷宗) and the inspection report."""
