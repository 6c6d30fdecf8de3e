"""What an inspector checks: hash chain, Merkle tree, checkpoints, exports, dossier (争议卷宗), inspection."""
