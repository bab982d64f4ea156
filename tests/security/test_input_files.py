"""Issue 18, cases 12 to 16: files as they come (UTF-16, mixed encodings, NUL bytes, huge answers, duplicate or
colliding ids) are read right or refused in one French line, never half-read or turned into a traceback."""

import time

import pytest

from pipeline.errors import InputError
from pipeline.ingest import MAX_ANSWER_CHARS, ingest

CONTENT = "id,answer\n1,Plus de moyens pour l'équipe\n2,Un sponsor à la direction\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_are_read_by_their_mark_or_their_nul_bytes(tmp_path, encoding):
    """A UTF-16 export used to be guessed as a column named ' a n s w e r ' and every answer set aside."""
    path = tmp_path / "answers.csv"
    path.write_bytes(CONTENT.encode(encoding))
    data = ingest(path)
    assert data.text_column == "answer"
    assert [r.text for r in data.responses] == ["Plus de moyens pour l'équipe", "Un sponsor à la direction"]


def test_a_file_mixing_utf8_and_windows_1252_rows_is_read_row_by_row_with_a_note(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_bytes(
        "id,answer\n1,Une année difficile\n".encode() + "2,Une année sans moyens\n".encode("cp1252") + b"3,Des outils\n"
    )
    data = ingest(path)
    assert [r.text for r in data.responses] == ["Une année difficile", "Une année sans moyens", "Des outils"]
    assert any("1 ligne en Windows-1252" in note for note in data.notes)


def test_a_whole_windows_1252_file_needs_no_note(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_bytes("id,answer\n1,Une année difficile\n2,Des idées\n".encode("cp1252"))
    data = ingest(path)
    assert data.responses[0].text == "Une année difficile"
    assert not any("Windows-1252" in note for note in data.notes)


def test_nul_and_control_characters_are_stripped_from_every_cell(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_bytes(b"id,answer,segment\n1\x00,Des\x00 outils\x07 utiles,R\x1bH\n2,Un sponsor,DG\n")
    data = ingest(path)
    first = data.responses[0]
    assert (first.respondent_id, first.text, first.segments) == ("1", "Des outils utiles", {"segment": "RH"})


def test_two_answers_under_one_id_are_refused_naming_it_unless_numbered_on_request(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text("id,answer\n17,Une chose\n17,Autre chose\n2,Encore\n2,Encore\n", encoding="utf-8")
    with pytest.raises(InputError, match="1 identifiant en double .* dont « 17 » .*--dedupe-ids"):
        ingest(path)
    data = ingest(path, dedupe_ids=True)
    # the same row twice stays as it is: cleaning sets the copy aside as a duplicate row
    assert [r.respondent_id for r in data.responses] == ["17", "17-2", "2", "2"]
    assert any("--dedupe-ids" in note for note in data.notes)


def test_rows_without_an_id_never_take_an_id_the_file_already_has(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text("id,answer\nrow-2,Une chose\n,Autre chose\n", encoding="utf-8")
    assert [r.respondent_id for r in ingest(path).responses] == ["row-2", "row-2-2"]


def test_an_answer_over_the_limit_is_cut_with_a_note(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text(f"id,answer\n1,{'a' * 1_300_000}\n2,un texte court\n", encoding="utf-8")
    data = ingest(path)
    assert len(data.responses[0].text) == MAX_ANSWER_CHARS and data.responses[1].text == "un texte court"
    assert any(note.startswith("1 réponse de plus de 20\u202f000 caractères coupée") for note in data.notes)


def test_a_pasted_blob_of_a_million_characters_is_read_and_cleaned_at_once(tmp_path):
    """Case 15: such an answer kept cleaning busy for over 4 minutes (a quadratic e-mail mask, then spaCy's E088).
    Cut at the limit, it is cleaned like any answer: 0.6 s on a loaded 2-core machine; the bound only catches a
    return of the quadratic case, not a slow machine."""
    from pipeline.clean import clean, load_spacy

    load_spacy()  # the model's loading is not the answer's cost
    path = tmp_path / "answers.csv"
    path.write_text(f"id,texte\n1,{'a' * 1_000_000}\n2,Plus de moyens pour former les équipes\n", encoding="utf-8")
    started = time.perf_counter()
    cleaned = clean(ingest(path))
    assert time.perf_counter() - started < 5
    assert {u.respondent_id for u in cleaned.units} == {"1", "2"} and not cleaned.excluded
