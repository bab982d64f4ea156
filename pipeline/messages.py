"""What the product says to its users, in one catalogue, so that another language is one more dictionary.

Templates are ``str.format`` strings filled by ``say``; a count's noun goes through ``plural`` so that
"1 répondant" and "2 répondants" both read right. Logs stay English and are not here.
"""

from __future__ import annotations

# Exclusion reasons keep the "kind (detail)" shape: ``Excluded.kind`` is the part before " (".
FRENCH: dict[str, str] = {
    "excluded.empty": "réponse vide",
    "excluded.no_words": "aucun mot (seulement de la ponctuation, des chiffres ou des symboles)",
    "excluded.non_answer": 'non-réponse ("{text}")',
    "excluded.not_french": "pas en français (langue détectée : {language})",
    "excluded.duplicate_row": "ligne en double (même identifiant et même réponse qu'une ligne précédente)",
    "excluded.copy": "copie (de la réponse du répondant {first})",
    "correction.saved": "Correction #{seq} enregistrée : {action}",
    "correction.undo_hint": "L'analyse {run_id} est à la version {seq}. Pour annuler : "
    "verbatims review undo {run_id} --event {seq}",
    "correction.not_saved": "Non enregistré : {error}",
    "correction.busy": "l'analyse {run_id} est en cours de correction par d'autres : rechargez puis recommencez",
    "login.failed": "Utilisateur inconnu ou mot de passe incorrect.",
    "request.malformed": "requête mal formée : {problems}",
    "request.missing": "champ obligatoire manquant",
    "model.promoted": "modèle {version} promu",
    "model.rolled_back": "retour en arrière : le modèle {version} est de nouveau promu",
    "user.saved": "utilisateur {username} ({role}) enregistré",
    "summary.counts": "{answers} : {kept} {analysed}, {excluded} {set_aside} (voir excluded.csv) ; {themes}.",
    "summary.new": "nouveau ?",
    "summary.more": "… et {n} de plus dans themes.csv",
    "summary.results": "Résultats : {folder}/  (report.md, themes.csv/.json/.xlsx, assignments.csv, excluded.csv)",
    "summary.review": "Revue : verbatims review queue {run_id}",
    "summary.nothing_left": "aucune réponse à analyser : {excluded} ({reasons}) ; voir {folder}/excluded.csv",
}

# Nouns and participles counted in messages: (singular, plural).
WORDS: dict[str, tuple[str, str]] = {
    "respondent": ("répondant", "répondants"),
    "idea": ("idée", "idées"),
    "answer": ("réponse", "réponses"),
    "theme": ("thème", "thèmes"),
    "distinct_idea": ("idée distincte", "idées distinctes"),
    "subtheme": ("sous-thème", "sous-thèmes"),
    "analysed": ("analysée", "analysées"),  # agrees with "réponse"
    "analysed_m": ("analysé", "analysés"),  # agrees with "répondant"
    "received": ("reçue", "reçues"),
    "set_aside": ("écartée", "écartées"),
}

# A correction's action as a reviewer reads it (an action missing here is named as is).
ACTIONS: dict[str, str] = {
    "rename": "renommage",
    "merge": "fusion",
    "split": "scission",
    "move": "déplacement",
    "add": "ajout d'un thème",
    "off_topic": "hors sujet",
    "confirm": "confirmation",
    "rename_net": "renommage du regroupement",
    "move_to_net": "changement de regroupement",
    "new_net": "nouveau regroupement",
    "dissolve_net": "regroupement défait",
    "undo": "annulation",
    "settle": "désaccord tranché",
    "bulk": "correction en lot",
}

# Column headers of the XLSX, which people read; CSV, JSON and Parquet keep the machine names.
HEADERS: dict[str, str] = {
    "rank": "Rang",
    "net_rank": "Rang du thème",
    "net_id": "Id du thème",
    "net_label": "Thème",
    "net_respondents": "Répondants (thème)",
    "net_share": "Part (thème)",
    "theme_id": "Id",
    "label": "Libellé",
    "theme_label": "Libellé",
    "n_respondents": "Répondants",
    "share": "Part",
    "n_units": "Idées",
    "keywords": "Mots-clés",
    "from_codebook": "Du plan de codes",
    "coherence": "Cohérence",
    "mixed": "Hétérogène",
    "change_pts": "Évolution (pt)",
    "proposed": "Proposé",
    "segment": "Segment",
    "value": "Valeur",
    "base": "Base",
    "ci_low": "IC 95 % bas",
    "ci_high": "IC 95 % haut",
    "p_value": "p",
    "p_adjusted": "p ajustée",
    "significant": "Significatif",
    "direction": "Sens",
    "tested": "Testé",
    "id": "Répondant",
    "unit_no": "N° d'idée",
    "unit_id": "Id de l'idée",
    "text": "Texte",
    "score": "Score",
    "reason": "Raison",
}


# Machine values the XLSX shows in French, by column (segments.csv keeps "above" / "below").
CELLS: dict[str, dict[str, str]] = {"direction": {"above": "au-dessus", "below": "au-dessous"}}


def say(message_id: str, **values: object) -> str:
    """The French text of ``message_id``, its ``{names}`` filled from ``values``."""
    return FRENCH[message_id].format(**values)


def plural_word(n: int, word: str) -> str:
    """The form of ``word`` that agrees with ``n``: singular for 0 and 1, as French has it."""
    singular, many = WORDS[word]
    return singular if abs(n) < 2 else many


def plural(n: int, word: str) -> str:
    """``n`` and the word counted: "1 répondant", "2 répondants"."""
    return f"{n} {plural_word(n, word)}"


def action_name(action: str) -> str:
    return ACTIONS.get(action, action)


def header(column: str) -> str:
    """An XLSX header: the French name of a known column; quotes are "Citation 1"…; others as they are."""
    if column.startswith("quote_"):
        return f"Citation {column.removeprefix('quote_')}"
    return HEADERS.get(column, column)
