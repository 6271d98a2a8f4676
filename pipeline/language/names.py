"""Words of Dutch (and other) personal names that are no name on their own."""

# Particles of surnames ("van", "de", "ter", "d'"): a part of a name, never a name alone. De-identification
# reads them between a first name or title and a surname; the own-name scrub never removes one by itself
# ("van" must not vanish from every answer of mevrouw Van Dam).
PARTICLES = frozenset("""
    van de der den het ten ter te op in uit von zu zur la le du di da del des dos el
    vander vanden vd v.d. v. 't d' l'
""".split())
# Particles of Arabic and Hebrew names that are also first names or Dutch words ("Ben", "ik ben"): kept
# apart, since de-identification must still read "Ben" as a first name.
FIRST_NAME_PARTICLES = frozenset({"al", "bin", "ben"})
