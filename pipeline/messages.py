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
    "excluded.stop_words_only": "aucun mot porteur de sens (seulement des mots vides)",
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
    "summary.results": "Résultats : {folder}/  (report.md, report.pptx, chart-*.png, themes.csv/.json/.xlsx, "
    "assignments.csv, excluded.csv)",
    "summary.review": "Revue : verbatims review queue {run_id}",
    "summary.placed": "Thèmes repris du dernier regroupement aux mêmes réglages : {ideas} {placed} dans les thèmes "
    "existants (dont {other} dans « Autres »). Pour tout regrouper à nouveau : --recluster",
    "summary.same": "Mêmes idées et mêmes réglages que le dernier regroupement : ses thèmes sont repris. Pour tout "
    "regrouper à nouveau : --recluster",
    "summary.reclustered": "Thèmes regroupés à nouveau : {reason}.",
    "placement.too_many": "{ideas} {changed} depuis le dernier regroupement, plus de {percent} % du fichier",
    "placement.asked": "demandé (--recluster)",
    "summary.nothing_left": "aucune réponse à analyser : {excluded} ({reasons}) ; voir {folder}/excluded.csv",
    # Refusals of a correction ("Non enregistré : …"); themes and nets by label where the action knows it
    "review.unknown_action": "correction inconnue « {name} » ; au choix : {names}",
    "review.needs_field": "{action} : le champ « {field} » est obligatoire",
    "review.invalid_field": "{action} : la valeur du champ « {field} » n'est pas valide",
    "review.unknown_theme": "thème inconnu « {theme} » dans l'analyse {run_id} : voir verbatims review show {run_id}",
    "review.merged_theme": "le thème « {theme} » a été fusionné dans « {target} » : utilisez celui-ci",
    "review.unknown_unit": "idée inconnue « {unit} » dans l'analyse {run_id} (les identifiants d'idées sont dans "
    "assignments.csv)",
    "review.unknown_net": "regroupement inconnu « {net} » dans l'analyse {run_id} : voir les regroupements dans "
    "verbatims review show {run_id}",
    "review.label_empty": "le libellé {of} ne peut pas être vide",
    "review.label_long": "le libellé {of} doit faire moins de 200 caractères",
    "review.of_theme": "du thème",
    "review.of_net": "du regroupement",
    "review.other_alone": "« {other} » reçoit ce qui ne va dans aucun thème : il reste dans un regroupement à part",
    "review.other_joined": "« {other} » reçoit ce qui ne va dans aucun thème : aucun thème ne le rejoint",
    "review.off_topic_first": "l'idée {unit} est marquée hors sujet : déplacez-la d'abord vers un thème",
    "review.already_off_topic": "l'idée {unit} est déjà marquée hors sujet",
    "review.already_in_theme": "l'idée {unit} est déjà dans le thème « {theme} »",
    "review.not_in_theme": "l'idée {unit} n'est pas dans le thème « {theme} » (elle est dans : {current})",
    "review.nowhere": "aucun thème",
    "review.move_needs": "un déplacement demande « to » (un thème existant) ou « label » (un nouveau thème)",
    "review.merge_needs": "une fusion demande un ou plusieurs thèmes à fusionner dans un autre thème",
    "review.split_outside": "une scission déplace des idées du thème « {theme} » ; pas dans ce thème : {outside}",
    "review.split_none": "aucune idée indiquée",
    "review.split_all": "une scission ne peut pas déplacer toutes les idées d'un thème : renommez plutôt le thème",
    "review.already_called": "le thème s'appelle déjà « {label} »",
    "review.net_already_called": "le regroupement s'appelle déjà « {label} »",
    "review.already_in_net": "le thème « {theme} » est déjà dans le regroupement « {net} »",
    "review.new_net_needs": "un nouveau regroupement demande un ou plusieurs thèmes",
    "review.whole_net": "ces thèmes forment déjà tout le regroupement « {net} » : renommez plutôt ce regroupement",
    "review.single_code": "le regroupement « {net} » n'a qu'un thème : il n'y a rien à défaire",
    "review.settle_either": "trancher une idée, c'est lui donner soit ses thèmes, soit « hors sujet » : "
    "l'un ou l'autre, ni les deux ni aucun",
    "review.bulk_needs_units": "{action} en lot : indiquez une ou plusieurs idées",
    "review.bulk_needs_to": "{action} en lot : indiquez « to » (un thème existant)",
    "review.bulk_refused": "{action} en lot impossible pour {refused} sur {total} : {reasons}{more}",
    "review.bulk_more": " (et {n} de plus)",
    "review.undo_blocked": "impossible d'annuler #{seq} : les mêmes éléments ont été modifiés depuis par {later} ; "
    "annulez-les d'abord",
    "review.undo_blocker": "#{seq} ({action} par {reviewer})",
    "review.undo_nothing": "rien à annuler pour {reviewer} dans l'analyse {run_id}",
    "review.undo_unknown": "aucune correction #{seq} dans l'analyse {run_id} : voir verbatims review history",
    "review.undo_of_undo": "#{seq} est elle-même une annulation : refaites plutôt la correction",
    "review.already_undone": "la correction #{seq} est déjà annulée",
    "review.who": "indiquez qui corrige (--reviewer ou VERBATIMS_REVIEWER)",
    # The store, sign-in and roles, the inbox, the command line
    "store.unreachable": "impossible d'ouvrir la base de revue {shown} (VERBATIMS_DB) : {error}",
    "store.unavailable": "la base de revue {shown} est indisponible pour l'instant ({why}) : réessayez dans un moment",
    "store.locked": "verrouillée par un autre processus",
    "store.read_only": "en lecture seule",
    "store.unreachable_now": "connexion impossible",
    "store.unknown_run": "analyse inconnue « {run_id} » ; {hint}",
    "store.latest_runs": "dernières analyses : {runs}",
    "store.no_run": "aucune analyse enregistrée pour l'instant : lancez d'abord verbatims analyze",
    "web.sign_in": "connectez-vous d'abord",
    "web.role": "il faut le rôle {needed} ; vous avez le rôle {role}",
    "web.csrf": "le formulaire est périmé ou ne vient pas de ce site (contrôle CSRF) : rechargez la page",
    # The run page's segment view, a merged theme's old address (web/views.py, web/routes/pages.py)
    "segment.unknown_column": "segment inconnu « {column} » : au choix {columns}",
    "segment.unknown_value": "aucun répondant analysé n'a « {value} » pour « {column} »",
    "segment.base": "Parts parmi les {respondents} du segment « {column} : {value} », classées selon ces parts ; "
    "citations de ce segment.",
    # no-break spaces (\u00a0) keep % and : with their figures when a phone's line wraps
    "segment.legend": "▲ / ▼ : part significativement au-dessus / au-dessous de celle du reste des répondants "
    "(test z, correction de Benjamini-Hochberg, 5\u00a0%) ; IC 95\u00a0% : intervalle de Wilson ; bases de moins de "
    "{min_base} répondants non testées.",
    "segment.interval": "IC 95\u00a0%\u00a0: {low} – {high}",
    "segment.untested": "base < {min_base} : non testé",
    "segment.above": "significativement au-dessus du reste des répondants",
    "segment.below": "significativement au-dessous du reste des répondants",
    "segment.no_quote": "Aucune citation de ce segment pour ce thème.",
    "theme.unknown": "aucun thème « {theme} » dans l'analyse {run_id}",
    "theme.merged": "Le thème « {old} » a été fusionné dans « {label} » le {at:%d/%m/%Y à %H:%M} (UTC) : "
    "voici le thème qui a reçu ses idées.",
    "inbox.analysed": "même contenu que {file}, déjà analysé dans l'analyse {run_id}",
    "inbox.failed": "même contenu que {file}, dont l'analyse a échoué : {reason}",
    "inbox.running": "même contenu que {file}, en cours d'analyse depuis le {since:%Y-%m-%d %H:%M}",
    "inbox.gave_up": "{reason} (après {attempts} tentatives)",
    "inbox.retry": "{reason} ; nouvel essai au prochain passage",
    # Input files, codebooks and stop-word files
    "input.empty": "le fichier est vide",
    "input.not_found": "fichier introuvable : {path}",
    "input.folder": "{path} est un dossier, pas un fichier",
    "input.unsupported": "type de fichier non pris en charge « {suffix} » : utilisez {suffixes}",
    "input.unreadable": "impossible de lire {name} : ce n'est pas un fichier {kind} valide, ou il est abîmé "
    "(réenregistrez-le depuis le tableur, ou exportez-le en CSV)",
    "input.no_rows": "le fichier {name} ne contient aucune ligne de réponse",
    "input.no_text_column": "aucune colonne de texte : toutes les colonnes sont numériques ; indiquez-la avec --text-col",
    "input.no_column": "la colonne « {name} » ({option}) n'est pas dans le fichier ; colonnes présentes : {available}",
    "input.no_answers": "la colonne « {column} » ne contient aucune réponse : toutes ses lignes sont vides",
    "input.text_guessed": "colonne du texte devinée : « {column} » (--text-col pour en choisir une autre)",
    "input.id_guessed": "colonne des identifiants devinée : « {column} » (--id-col pour en choisir une autre)",
    "input.no_id": "aucune colonne d'identifiants : les répondants sont numérotés par ligne (--id-col pour en choisir une)",
    "input.not_text": "le fichier ne contient pas du texte (un programme, une archive ou un fichier abîmé ?) : "
    "déposez un export CSV, XLSX, JSONL ou Parquet des réponses",
    "upload.no_file": "choisissez un fichier de réponses à déposer",
    "upload.too_large": "fichier trop volumineux : {limit} Mo au plus (réglage VERBATIMS_MAX_UPLOAD_MB)",
    "input.repaired_lines": "{lines} en Windows-1252 au milieu de lignes en UTF-8 : chacune lue dans son encodage "
    "(vérifiez-en les accents)",
    "input.cut": "{answers} de plus de {limit} caractères {cut} à {limit} caractères",
    "input.duplicate_ids": "{clashes} (deux réponses différentes sous un même identifiant de répondant), dont {ids} : "
    "corrigez le fichier, ou relancez avec --dedupe-ids pour numéroter les suivantes (« 17 », « 17-2 »)",
    "input.deduped": "{clashes} : les réponses suivantes numérotées (« 17 », « 17-2 ») à la demande (--dedupe-ids)",
    "codebook.not_found": "plan de codes introuvable : {path}",
    "codebook.not_yaml": "le plan de codes {name} n'est pas du YAML valide : {error}",
    "codebook.no_themes": "le plan de codes {name} doit contenir une liste `themes:` non vide",
    "codebook.theme_needs": "plan de codes {name} : le thème n° {n} doit avoir un « id » et un « label »",
    "codebook.twice": "plan de codes {name} : l'identifiant de thème « {theme_id} » apparaît deux fois",
    "codebook.seeds_list": "plan de codes {name} : les « seed_words » du thème « {theme_id} » doivent former une liste",
    "stop_words.not_found": "fichier de mots vides introuvable : {path}",
    "stop_words.not_utf8": "le fichier de mots vides {name} n'est pas du texte UTF-8 : {error}",
    # Settings, models and machinery named by the user
    "registry.unknown": "{kind} inconnu « {name} » : au choix {names}",
    "embedder.unloadable": "impossible de charger le modèle sentence-transformers « {name} » : {error}. Indiquez un "
    "dossier de modèle local, ou gardez le modèle par défaut (--embedder {default})",
    "spacy.missing": "le modèle spaCy {model} manque : pip install {package}",
    "runner.unknown": "exécuteur de tâches inconnu « {setting} » : utilisez {choices}",
    "runner.workers": "« {setting} » : le nombre de processus Dask est un entier positif, par exemple dask:2",
    "prefect.stopped": "le serveur Prefect s'est arrêté au démarrage (code {code}) : {api_url} est-il déjà utilisé ?",
    "prefect.silent": "le serveur Prefect n'a pas répondu sur {api_url} en {timeout:.0f} s",
    # Flow parameters, as Prefect's form and the command line check them
    "params.no_file": "fichier introuvable : {path} (chemin relatif au dossier d'où les flux sont servis)",
    "params.codebook_suffix": "un plan de codes est un fichier .yaml, pas « {suffix} »",
    "params.db": "la base de revue est un chemin de fichier, une URL sqlite:// ou une URL postgresql://",
    # Models, retraining, double coding and jobs
    "job.classified": "{themes} dans {name} ; résultats dans {folder}",
    "job.unknown": "aucune tâche « {job_id} » (les tâches sont oubliées au redémarrage du serveur)",
    "theme.merge_target": "impossible de fusionner le thème « {theme} » dans « {target} » : choisissez un autre thème "
    "de cette analyse",
    "settle.not_double": "l'idée {unit} n'est pas encore codée par deux codeurs : rien à trancher",
    "settle.third": "{reviewer} a codé l'idée {unit} : un troisième codeur tranche",
    "settle.agree": "les deux codeurs sont d'accord sur l'idée {unit} : rien à trancher",
    "settle.done": "l'idée {unit} est déjà tranchée par {reviewer} (#{seq}) : annulez d'abord",
    "model.unknown": "modèle inconnu « {version} » : voir `verbatims models list`",
    "model.already": "le modèle {version} est déjà en service",
    "model.no_rollback": "aucun modèle mis en service avant celui-ci : pas de retour en arrière possible",
    "model.none": "aucun modèle en service : revoyez une analyse, puis réentraînez (`verbatims retrain`)",
    "model.file_missing": "le fichier du modèle {version} est introuvable : {path} (VERBATIMS_MODELS)",
    "double.sample": "l'échantillon compte au moins une idée (--sample)",
    "double.pair": "le double codage se fait à deux codeurs distincts (--reviewers ana,bob)",
    "double.unknown_user": "utilisateur inconnu : {name} (verbatims users add {name} --role reviewer)",
    "double.role": "{name} est {role} : seul un reviewer (ou admin) peut coder",
    "double.not_given": "l'idée {unit} n'a pas été confiée à {reviewer} pour le double codage",
    "double.both_coded": "l'idée {unit} est déjà codée par les deux codeurs : le codage reste tel quel",
    "double.no_theme": "choisissez au moins un thème (ou hors sujet)",
    "double.off_topic_alone": "une idée hors sujet n'a pas d'autre thème",
    "retrain.unknown_runs": "analyse(s) inconnue(s) : {runs}",
    "retrain.no_reviewed_run": "aucune analyse revue : corrigez ou confirmez d'abord des idées (file de revue ou "
    "`verbatims review`)",
    "retrain.embedders": "les analyses ont été vectorisées par des modèles différents : réentraînez-les séparément (--run)",
    "retrain.no_reviewed_idea": "aucune idée revue : déplacez, ajoutez ou confirmez des idées (file de revue ou "
    "`verbatims review`)",
    "retrain.too_few": "pas assez de revues pour entraîner un modèle (il faut au moins {n} idées revues dans 2 thèmes) "
    ": {gap}",
    # Users and training
    "guard.total": "il faut au moins {needed} idées revues ({have} pour l'instant)",
    "guard.themes": "{themes} {has} moins de {needed} idées revues : {names}",
    "guard.before": "il a été entraîné avant le contrôle du nombre d'idées revues ; réentraînez-le",
    "user.name_length": "un nom d'utilisateur fait de 1 à 100 caractères",
    "user.role": "rôle inconnu : au choix {roles}",
    "user.password_length": "un mot de passe fait au moins {n} caractères",
    "train.two_themes": "l'entraînement demande des idées revues dans au moins deux thèmes",
    "train.cv_items": "la validation croisée demande au moins 4 idées revues ({n} pour l'instant)",
    "similar.n": "n doit être compris entre 1 et {max}",
    "api.limit": "limit doit être compris entre 1 et 1000",
    # Charts (pipeline.charts) and the slide deck (pipeline.slides)
    "chart.ranked.title": "Classement des thèmes",
    "chart.ranked.subtitle": "Base : {base}. Part des répondants qui évoquent le thème, intervalle de confiance à 95 %",
    "chart.ranked.alt": "Graphique : les thèmes classés par part de répondants, avec leur intervalle de confiance à 95 %",
    "chart.cut": "{shown} premiers thèmes sur {total}",
    "chart.share_axis": "Part des répondants",
    "chart.segments.title": "Thèmes par segment",
    "chart.segments.subtitle": "Part des répondants de chaque segment qui évoquent le thème",
    "chart.segments.column": "Par {column}",
    "chart.segments.more": "Valeurs de segments non montrées ici : {n} (voir segments.csv)",
    "chart.segments.legend": "▲ / ▼ et cadre : part significativement au-dessus / au-dessous du reste des répondants "
    "(test z, correction de Benjamini-Hochberg, 5 %). En gris : base de moins de {min_base} répondants, non testée.",
    "chart.segments.alt": "Graphique : part de chaque thème dans chaque segment, écarts significatifs marqués",
    "chart.waves.title": "Évolution depuis la vague précédente",
    "chart.waves.subtitle": "Écart de part des répondants, en points. ▲ / ▼, en foncé : évolution significative (test z, "
    "correction de Benjamini-Hochberg, 5 %). Un thème nouveau n'a pas d'évolution.",
    "chart.waves.axis": "Évolution (points)",
    "chart.waves.alt": "Graphique : évolution de la part de chaque thème depuis la vague précédente, en points",
    "slides.base": "Base : {respondents} {analysed} sur {answers} {received}",
    "slides.run": "Analyse {run_id} du {date}",
    "slides.share": "des répondants",
    "slides.interval": "Intervalle de confiance à 95 % : {low} à {high} ; {respondents} sur {base}",
    "slides.subthemes": "Sous-thèmes : {codes}",
    "slides.segments": "Segments notables",
    "slides.above": "Plus cité par « {value} » ({column}) : {share} contre {rest} pour les autres répondants",
    "slides.below": "Moins cité par « {value} » ({column}) : {share} contre {rest} pour les autres répondants",
    "slides.in_code": "{cell} (sous-thème « {code} »)",
    "slides.no_difference": "Aucun écart significatif entre segments (test z, correction de Benjamini-Hochberg, 5 %).",
    # Wave-over-wave changes (report.md) and the XLSX's legend and chart (pipeline.workbook)
    "wave.tested": "Évolution en points par rapport à {previous} ({before} ; cette vague : {after}). ▲ / ▼ : "
    "évolution significative (test z de deux proportions, correction de Benjamini-Hochberg sur les thèmes, 5 %) ; "
    "« nouveau » : thème proposé, à valider en revue.",
    "wave.significant": "évolution significative par rapport à la vague précédente (test z de deux proportions, "
    "correction de Benjamini-Hochberg sur les thèmes, 5 %)",
    "wave.untested": "Évolution en points par rapport à {previous} ({before} ; cette vague : {after}), non testée : "
    "moins de {min_base} répondants dans l'une des vagues ; « nouveau » : thème proposé, à valider en revue.",
    "workbook.legend": "Lecture du classeur",
    "workbook.shares": "Part : proportion des répondants analysés qui évoquent le thème ; une réponse peut en évoquer "
    "plusieurs. IC 95 % : intervalle de confiance de Wilson.",
    "workbook.above": "Segments, fond vert : part significativement au-dessus du reste des répondants (test z, "
    "correction de Benjamini-Hochberg, 5 %).",
    "workbook.below": "Segments, fond orange : part significativement au-dessous du reste des répondants.",
    "workbook.small": "Segments, en gris : base de moins de {min_base} répondants, non testée.",
    "workbook.change": "Thèmes, colonne Évolution : fond vert pour une hausse significative, orange pour une baisse "
    "significative par rapport à la vague précédente (test z de deux proportions, correction de Benjamini-Hochberg "
    "sur les thèmes, 5 %).",
    "workbook.chart": "Part des répondants par regroupement de thèmes",
    "workbook.chart_axis": "Part des répondants",
    "workbook.waves_chart": "Part des répondants par thème, vague précédente et cette vague",
    "workbook.previous_wave": "Vague précédente",
    "workbook.this_wave": "Cette vague",
    "cli.error": "erreur : {message}",
    # The command line: Click's own words (cli/click_french.py) and what the commands print (cli/*_commands.py)
    "cli.usage": "Utilisation : ",
    "cli.help_option": "Afficher cette aide et quitter.",
    "cli.help_hint": "Aide : {command} {option}",
    "cli.commands": "Commandes",
    "cli.heading": "{title} :",
    "cli.subcommand": "COMMANDE [ARGUMENTS]...",
    "cli.default": "par défaut : {value}",
    "cli.env_var": "variable d'environnement : {name}",
    "cli.required": "obligatoire",
    "cli.missing_argument": "argument manquant : {name}",
    "cli.missing_option": "option obligatoire manquante : {name}",
    "cli.no_such_option": "option inconnue : {name}",
    "cli.possible_options": " (options possibles : {options})",
    "cli.bad_value": "valeur incorrecte pour {name} : {reason}",
    "cli.not_integer": "un nombre entier est attendu",
    "cli.not_number": "un nombre est attendu",
    "cli.at_least": "la valeur doit être au moins {limit}",
    "cli.at_most": "la valeur doit être au plus {limit}",
    "cli.no_such_command": "commande inconnue « {name} »",
    "cli.did_you_mean": " ; vouliez-vous dire {commands} ?",
    "cli.aborted": "Interrompu.",
    "cli.missing_command": "commande manquante",
    "cli.extra_arguments": "{what} : {args}",
    "cli.needs_value": "l'option {name} demande une valeur",
    "cli.takes_no_value": "l'option {name} ne prend pas de valeur",
    "cli.kind.analyze": "analyse",
    "cli.kind.classify": "vague",
    "cli.model": "modèle {version}",
    "cli.reviewed": "revue",
    "cli.show": "Analyse {run_id}, version {version} : {themes} dans {nets}, {reviewed}, {off_topic} hors sujet",
    "cli.show_net": "regroupement {net_id:<20} {count:>12}  {label}",
    "cli.show_theme": "  {theme_id:<31} {count:>12}  {label}",
    "cli.units": "{label} : {shown} sur {total} (version {version})",
    "cli.history": "#{seq} {at:%Y-%m-%d %H:%M} {reviewer} {action} {payload}\n    avant  {before}\n    après  {after}",
    "cli.exported": "Analyse {run_id} telle que revue (version {version}) : {themes}",
    "cli.move_either": "indiquez soit --to THÈME, soit --new LIBELLÉ",
    "cli.queue": "File de revue de l'analyse {run_id}, version {version} (passez --seen {version} avec vos corrections)",
    "cli.loading": "Chargement des modèles de langue et classement de la dernière analyse…",
    "cli.password": "Mot de passe",
    "cli.password_again": "Mot de passe, une seconde fois",
    "cli.password_mismatch": "les deux mots de passe saisis diffèrent : rien n'est enregistré",
    "cli.alert": "ALERTE : {alert}",
    "cli.serving": "Page web de verbatims : http://{host}:{port}/  (base {db} ; Ctrl-C pour arrêter)",
    "cli.prefect_ui": "Interface Prefect : {url}  (Deployments ; Ctrl-C pour arrêter)",
    # verbatims review queue
    "cli.queue_progress": "{reviewed}, {open} à revoir ; encore {until} avant qu'un réentraînement vaille la peine ; "
    "F1 hors échantillon : {f1} ; {model}",
    "cli.queue_no_f1": "pas encore",
    "cli.queue_refitted": "nouvelles revues : modèle de la file réajusté sur {learnt}",
    "cli.queue_first_fit": "la file apprend de vos {behind} en arrière-plan (--wait pour l'attendre), ordre de la machine "
    "en attendant",
    "cli.queue_behind": "modèle de la file appris sur {learnt} ; il apprend vos {behind} en arrière-plan (--wait pour "
    "les attendre)",
    "cli.queue_learnt": "modèle de la file appris sur {learnt}, rien de nouveau depuis",
    "cli.queue_not_learning": "la file apprendra de vos revues à partir de {learnt}",
    "cli.queue_item": "{unit_id}  certitude {certainty}",
    "cli.queue_theme": "  thème : {theme_id} {label}{chance}",
    "cli.queue_chance": " (probabilité {probability})",
    "cli.queue_also": "  aussi dans : {themes} (confirm les garde ; move ne remplace que le thème ci-dessus)",
    "cli.queue_runner_up": "  ou : {theme_id} {label}",
    "cli.queue_words": "  mots : {words}",
    "cli.queue_neighbour": "  revue proche ({similarity}) : « {text} » → {labels}",
    # verbatims models / retrain
    "cli.no_model": "aucun modèle : revoyez une analyse, puis `verbatims retrain`",
    "cli.model_line": "{mark} {version:<6} {created:%Y-%m-%d %H:%M}  macro-F1 {f1}  {reviewed}, {themes}, {runs}",
    "cli.model_below": "sous le seuil de mise en service : {reason}",
    "cli.model_promoted": "modèle {version} mis en service",
    "cli.model_promoted_below": "attention : il est sous le seuil de mise en service ({reason}) ; classify le refusera "
    "sans --force",
    "cli.model_rolled_back": "retour en arrière : le modèle {version} est de nouveau en service",
    # verbatims review double-code / code / agreement / settle
    "cli.double_coding": "{units} à {pair} pour un codage en aveugle.",
    "cli.double_coding_next": "Chacun code sur la page /runs/{run_id}/coding ; l'accord : verbatims review agreement "
    "{run_id}",
    "cli.and": " et ",
    "cli.coded": "idée {unit} codée par {reviewer} : {themes}",
    "cli.agreement": "Analyse {run_id} : {assigned} en double codage ({coded} codées), {both} par les deux.",
    "cli.agreement_no_coder": "aucun codeur",
    "cli.coder": "codeur {n}",
    "cli.agreement_main": "Thème principal — alpha de Krippendorff (nominal) : {alpha} ; kappa de Cohen : {kappa} ; "
    "accord brut : {agreement}",
    "cli.agreement_per_theme": "Par thème (présence ou absence) :",
    "cli.agreement_theme": "thème",
    "cli.agreement_machine": "La machine face à chaque codeur (thème principal, mêmes idées) :",
    "cli.agreement_machine_line": "  {reviewer:<20} kappa {kappa} ; accord brut {agreement}",
    "cli.agreement_verdict": "  La machine est {verdict} de l'accord entre les deux codeurs.",
    "cli.agreement_at_par": "au niveau",
    "cli.agreement_below": "en dessous",
    "cli.agreement_unknown": "pas encore mesurable",
    "cli.not_computable": "non calculable",
    "cli.disagreements": "Désaccords : {n}, dont {settled}.",
    "cli.settled_by": "tranché par {reviewer}",
    "cli.to_settle": "à trancher",
    "cli.settled": "#{seq} désaccord sur l'idée {unit} tranché par {reviewer}. Annuler : verbatims review undo {run_id} "
    "--event {seq}",
    "runner.choices": "threads (une machine, par défaut), dask (une grappe Dask locale, un processus par cœur), "
    "dask:N (N processus locaux) ou tcp://hôte:port (un ordonnanceur Dask existant dont les processus ont verbatims)",
    # Read-only links to a run's report (review.shares, web/routes/shares.py, verbatims share)
    "share.days": "un lien de partage dure de 1 à {max} jours",
    "share.note_long": "la note d'un lien de partage fait au plus {max} caractères",
    "share.unknown_link": "aucun lien de partage n° {link_id} pour cette analyse",
    "share.already_revoked": "le lien de partage n° {link_id} est déjà révoqué",
    "share.unknown": "Ce lien de partage n'existe pas. Vérifiez l'adresse, ou demandez un nouveau lien à la "
    "personne qui vous l'a envoyé.",
    "share.revoked": "Ce lien de partage a été révoqué le {at:%d/%m/%Y à %H:%M} (UTC) : le rapport n'est plus "
    "accessible par ce lien. Demandez un nouveau lien à la personne qui vous l'a envoyé.",
    "share.expired": "Ce lien de partage a expiré le {at:%d/%m/%Y à %H:%M} (UTC) : le rapport n'est plus "
    "accessible par ce lien. Demandez un nouveau lien à la personne qui vous l'a envoyé.",
    "download.no_format": "aucun export « {fmt} » : au choix {formats}",
    "share.when": "{at:%d/%m/%Y à %H:%M}",
    "share.created": "Lien de partage n° {link_id} créé ; il expire le {at:%d/%m/%Y à %H:%M} (UTC).",
    "share.revoked_done": "Lien de partage n° {link_id} révoqué.",
    "share.state.active": "actif",
    "share.state.expired": "expiré",
    "share.state.revoked": "révoqué",
    "share.none": "aucun lien de partage pour l'analyse {run_id}",
    "share.line": "n° {link_id}  {state}  créé le {created:%d/%m/%Y %H:%M} par {by}  expire le "
    "{expires:%d/%m/%Y %H:%M} (UTC){note}",
    "share.note": " ; note : {note}",
    "share.copy": "Copiez ce lien maintenant : il ne sera plus affiché.",
    "share.no_web_url": "(adresse à compléter par celle du serveur web : définissez VERBATIMS_WEB_URL pour l'avoir entière)",
    # Sessions, sign-in throttling, accounts and the password policy (review.sessions, review.throttle, review.users)
    "user.password_blank": "un mot de passe ne peut pas être fait que d'espaces",
    "user.password_repeated": "un mot de passe ne peut pas être un seul caractère répété",
    "user.password_sequence": "un mot de passe ne peut pas être une suite simple (12345678…, abcdef…, azerty, qwerty)",
    "user.password_username": "un mot de passe ne peut pas contenir le nom d'utilisateur",
    "user.password_guessable": "ce mot de passe est trop facile à deviner (mot de passe courant ou motif connu) : "
    "prenez plusieurs mots peu courants",
    "user.unknown": "utilisateur inconnu : {username}",
    "user.none": "aucun utilisateur",
    "user.line": "{username}  {role}{state}",
    "user.state_disabled": "  (désactivé)",
    "user.disabled": "utilisateur {username} désactivé ; {sessions}",
    "user.enabled": "utilisateur {username} réactivé",
    "user.removed": "utilisateur {username} supprimé ; {sessions}",
    "user.password_reset": "nouveau mot de passe de {username} enregistré ; {sessions}",
    "user.sessions_ended": "{username} : {sessions}",
    "user.not_yourself": "un administrateur ne se désactive ni ne se supprime lui-même : demandez-le à un autre "
    "administrateur",
    "login.locked": "Trop de tentatives de connexion : réessayez dans {wait}.",
    "session.secret_short": "VERBATIMS_SECRET est trop court ({size}) : il en faut au moins {min} ; par exemple "
    'python -c "import secrets; print(secrets.token_hex(32))"',
    # Erasure and retention (review.erasure, cli/erase_commands.py, the run page's delete button)
    "erase.unknown_respondent": "aucune réponse de ce répondant dans la base de revue",
    "erase.unnamed_theme": "Thème sans libellé",
    "erase.confirm_respondent": "Effacer toutes les réponses du répondant {respondent} ({runs}) : base de revue, "
    "caches, résultats Prefect et fichiers exportés ? C'est définitif.",
    "erase.confirm_run": "Supprimer l'analyse {run_id}, ses fichiers exportés et ses résultats en cache ? C'est définitif.",
    "erase.confirm_purge": "Supprimer {runs} de plus de {days} : {list} ? C'est définitif.",
    "erase.respondent_done": "répondant effacé de {runs} : {removed}",
    "erase.run_done": "analyse {run_id} supprimée : {removed}",
    "erase.purge_none": "aucune analyse de plus de {days}",
    "erase.purge_done": "{runs} de plus de {days} {deleted} : {removed}",
    "erase.no_retention": "aucune durée de conservation : donnez --older-than JOURS ou définissez VERBATIMS_RETENTION_DAYS",
    "erase.cancelled": "rien n'a été effacé",
    "artifact.ranked": "Thèmes classés de l'analyse {run_id}",
    "artifact.report": "Rapport de l'analyse {run_id}",
    "artifact.inbox": "Fichiers pris en charge dans {folder}",
    "deployment.analyze": "Les thèmes du fichier de réponses du mois : faites pointer input_path sur l'export du mois.",
    "deployment.classify": "Le modèle de thèmes en service appliqué à la nouvelle vague du mois, avec l'évolution des "
    "parts.",
    "deployment.retrain": "Un modèle de thèmes appris de toutes les analyses revues, mis en service seulement s'il "
    "n'est pas moins bon.",
    "deployment.inbox": "Chaque fichier déposé dans {folder}/ est analysé une fois, puis rangé dans `processed/` ou "
    "`failed/`.",
    "user.confirm_remove": "Supprimer l'utilisateur {username} et fermer ses sessions ? C'est définitif.",
    "erase.unconfirmed": "cochez la case de confirmation : rien n'a été effacé",
    "erase.nothing": "rien d'autre",
    "erase.user_program": "le fichier d'origine donné à verbatims analyze reste où il est : effacez-y aussi ce répondant",
}

# Nouns and participles counted in messages: (singular, plural).
WORDS: dict[str, tuple[str, str]] = {
    "respondent": ("répondant", "répondants"),
    "idea": ("idée", "idées"),
    "new_idea": ("idée nouvelle", "idées nouvelles"),
    "placed": ("placée", "placées"),  # agrees with "idée"
    "changed": ("nouvelle, modifiée ou disparue", "nouvelles, modifiées ou disparues"),  # agrees with "idée"
    "answer": ("réponse", "réponses"),
    "theme": ("thème", "thèmes"),
    "distinct_idea": ("idée distincte", "idées distinctes"),
    "subtheme": ("sous-thème", "sous-thèmes"),
    "analysed": ("analysée", "analysées"),  # agrees with "réponse"
    "analysed_m": ("analysé", "analysés"),  # agrees with "répondant"
    "received": ("reçue", "reçues"),
    "set_aside": ("écartée", "écartées"),
    "line": ("ligne", "lignes"),
    "has": ("a", "ont"),
    "cut": ("coupée", "coupées"),
    "duplicate_id": ("identifiant en double", "identifiants en double"),
    "day": ("jour", "jours"),  # a share link's life
    "minute": ("minute", "minutes"),  # a locked sign-in's wait
    "session_ended": ("session fermée", "sessions fermées"),
    "byte": ("octet", "octets"),
    # the command line (cli/)
    "net": ("regroupement", "regroupements"),
    "reviewed_idea": ("idée revue", "idées revues"),
    "extra_argument": ("argument en trop", "arguments en trop"),
    "new_review": ("nouvelle revue", "nouvelles revues"),
    "review": ("revue", "revues"),
    "run": ("analyse", "analyses"),
    "entrusted_idea": ("idée confiée", "idées confiées"),
    "coded": ("codée", "codées"),
    "settled": ("tranché", "tranchés"),
    # erasure (review.erasure): what was removed, by kind
    "erased.runs": ("analyse", "analyses"),
    "erased.respondents": ("répondant", "répondants"),
    "erased.units": ("idée", "idées"),
    "erased.excluded": ("réponse écartée", "réponses écartées"),
    "erased.assignments": ("affectation", "affectations"),
    "erased.double_coding": ("double codage", "doubles codages"),
    "erased.blind_codings": ("codage en aveugle", "codages en aveugle"),
    "erased.review_events": ("correction", "corrections"),
    "erased.themes": ("thème", "thèmes"),
    "erased.export_folders": ("dossier d'export", "dossiers d'export"),
    "erased.uploads": ("fichier déposé", "fichiers déposés"),
    "erased.cache_entries": ("entrée de cache", "entrées de cache"),
    "erased.prefect_results": ("résultat Prefect", "résultats Prefect"),
    "erased.prefect_artifacts": ("artefact Prefect", "artefacts Prefect"),
    "erased.queue_folders": ("dossier de file de revue", "dossiers de file de revue"),
    "erased.sessions": ("session", "sessions"),
    "erased.users": ("utilisateur", "utilisateurs"),
    "deleted_f": ("supprimée", "supprimées"),  # agrees with "analyse"
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
    # a classified wave against the previous one, and the nets' sheet (pipeline.workbook)
    "previous_share": "Part (vague précédente)",
    "previous_base": "Base (vague précédente)",
    "change_p": "p ajustée (évolution)",
    "change_significant": "Évolution significative",
    "n_codes": "Sous-thèmes",
    "codes": "Libellés des sous-thèmes",
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


def decimal(value: float, spec: str) -> str:
    """A number as French writes it, with a decimal comma: ``decimal(12.34, "+.1f")`` is "+12,3"."""
    return format(value, spec).replace(".", ",")


def action_name(action: str) -> str:
    return ACTIONS.get(action, action)


def header(column: str) -> str:
    """An XLSX header: the French name of a known column; quotes are "Citation 1"…; others as they are."""
    if column.startswith("quote_"):
        return f"Citation {column.removeprefix('quote_')}"
    return HEADERS.get(column, column)
