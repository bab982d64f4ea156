import json

import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.ingest import file_sha256, ingest

ROWS = [
    {"ID": "a1", "Niveau": "naissante", "Réponse": "Un vrai sponsor à la direction générale, c'est essentiel"},
    {"ID": "a2", "Niveau": "en progrès", "Réponse": "Plus de moyens et du temps pour les équipes"},
    {"ID": "a3", "Niveau": "naissante", "Réponse": "Des outils « CRM » partagés entre les services"},
]


def write_csv(path, encoding, delimiter):
    pd.DataFrame(ROWS).to_csv(path, sep=delimiter, index=False, encoding=encoding)
    return path


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", ";"), ("utf-8", "\t"), ("latin-1", "|")]
)
def test_csv_encodings_and_delimiters_are_detected(tmp_path, encoding, delimiter):
    data = ingest(write_csv(tmp_path / "answers.csv", encoding, delimiter))
    assert data.text_column == "Réponse"
    assert data.id_column == "ID"
    assert [r.respondent_id for r in data.responses] == ["a1", "a2", "a3"]
    assert data.responses[2].text == "Des outils « CRM » partagés entre les services"
    assert data.responses[0].segments == {"Niveau": "naissante"}
    assert data.segment_columns == ["Niveau"]
    assert any("colonne du texte devinée : « Réponse »" in n for n in data.notes)


def test_xlsx_jsonl_and_parquet_give_the_same_answers(tmp_path):
    frame = pd.DataFrame(ROWS)
    frame.to_excel(tmp_path / "a.xlsx", index=False)
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS), encoding="utf-8")
    frame.to_parquet(tmp_path / "a.parquet")
    texts = [r["Réponse"] for r in ROWS]
    for name in ("a.xlsx", "a.jsonl", "a.parquet"):
        data = ingest(tmp_path / name)
        assert [r.text for r in data.responses] == texts, name
        assert data.id_column == "ID"
        assert data.input_sha256 == file_sha256(tmp_path / name), "hashed from the bytes it parsed"


def test_numeric_ids_keep_their_form_and_explicit_columns_are_used(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("num,txt,note\n007,Du temps,1\n010,Des moyens,2\n", encoding="utf-8")
    data = ingest(path, text_column="txt", id_column="num")
    assert [r.respondent_id for r in data.responses] == ["007", "010"]
    assert data.notes == []


def test_without_id_column_rows_are_numbered(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("texte\nDu temps\nDes moyens\n", encoding="utf-8")
    data = ingest(path)
    assert [r.respondent_id for r in data.responses] == ["row-1", "row-2"]
    assert any("aucune colonne d'identifiants" in n for n in data.notes)


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        (None, ".csv", "fichier introuvable"),
        ("", ".csv", "le fichier est vide"),
        ("id,texte\n", ".csv", "aucune ligne"),
        ("id,texte\n1,\n2,  \n", ".csv", "ne contient aucune réponse"),
        ("x", ".pdf", "type de fichier non pris en charge « .pdf »"),
        ("not a workbook", ".xlsx", "impossible de lire"),
    ],
)
def test_bad_files_get_a_clear_error(tmp_path, content, suffix, message):
    path = tmp_path / f"answers{suffix}"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        ingest(path)


def test_unknown_column_lists_the_available_ones(tmp_path):
    path = write_csv(tmp_path / "a.csv", "utf-8", ",")
    with pytest.raises(
        InputError, match=r"la colonne « verbatim » \(--text-col\) n'est pas dans le fichier ; colonnes présentes : 'ID'"
    ):
        ingest(path, text_column="verbatim")
    with pytest.raises(InputError, match=r"--id-col"):
        ingest(path, id_column="respondent")


def test_a_file_read_again_unchanged_is_parsed_once_and_an_edited_one_again(tmp_path, monkeypatch):
    """A command checks its file, then its flow reads it: the second read is the first one's answers."""
    import pipeline.ingest as ingest_module

    path = tmp_path / "vague.csv"
    path.write_text("id;texte\n1;Plus de moyens pour la formation\n2;Un sponsor à la direction\n", encoding="utf-8")
    first = ingest(path)
    parsed, parse = [], ingest_module.read_table
    monkeypatch.setattr(ingest_module, "read_table", lambda *args: parsed.append(1) or parse(*args))
    assert ingest(path) is first and not parsed
    # the same size, written at once: known by its content, not by its size or time
    path.write_text("id;texte\n1;Plus de moyens pour la formation\n2;Un sponsor à la Direction\n", encoding="utf-8")
    again = ingest(path)
    assert parsed == [1] and again.responses[1].text == "Un sponsor à la Direction"
    assert again.input_sha256 != first.input_sha256
    assert ingest(path, text_column="texte") is not again and parsed == [1, 1]  # other arguments: parsed again
