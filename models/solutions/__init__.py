"""Solutions: case studies born from adopted pilots, other agencies' adoptions, joint procurement rounds."""
