"""The face pipeline's reference-photo path (``main_faces``) against the full one, and
dlib's detectors in several threads at once (a web worker enrols in threads)."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import numpy as np
from PIL import Image
from skimage import data

from haechi.analyze.faces.image import Picture, load_picture
from haechi.analyze.faces.pipeline import FacePipeline


def _picture(img: Image.Image) -> Picture:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return load_picture(io.BytesIO(buf.getvalue()), 2560)


def _face() -> Image.Image:
    return Image.fromarray(data.astronaut()).crop((120, 20, 320, 240))


def test_the_main_face_is_the_full_pipelines_largest_face(reference_png: bytes) -> None:
    pipe = FacePipeline()
    for picture in (load_picture(io.BytesIO(reference_png), 2560), _picture(_face())):
        full, main = pipe.faces(picture), pipe.main_faces(picture, 0.6)
        assert len(full) == len(main) == 1
        # the same face, found at fewer upsampling steps: the same person by a wide margin
        assert main[0].upsample <= full[0].upsample
        assert float(np.linalg.norm(full[0].embedding - main[0].embedding)) < 0.1
        assert abs(main[0].size - full[0].size) <= 0.1 * full[0].size


def test_a_second_face_too_small_for_the_first_step_is_still_seen() -> None:
    """A second face of 0.65 of the first (about 60 px) is below HOG's 80 px window at the
    picture's own size: main_faces must climb a step to see it, or a photo of two people
    would be enrolled as one. A face of half the size never counts, and costs nothing."""
    pipe = FacePipeline()
    face = _face()
    for ratio, expected in ((0.65, 2), (0.75, 2), (0.5, 1)):
        small = face.resize((round(200 * ratio), round(220 * ratio)))
        canvas = Image.new("RGB", (420, 240))
        canvas.paste(face, (0, 0))
        canvas.paste(small, (210, 10))
        picture = _picture(canvas)
        main = pipe.main_faces(picture, 0.6)
        assert len(main) == expected, ratio
        assert main[0].box[0] < 200  # the larger face first
        full = [f for f in pipe.faces(picture) if f.size >= 0.6 * pipe.faces(picture)[0].size]
        assert len(full) == expected  # the full pipeline agrees


def test_faces_in_several_threads_at_once_do_not_crash_the_process() -> None:
    """dlib's HOG detector keeps its pyramid in the object and releases the GIL: two
    threads on one detector at different upsampling steps crashed the process ("double
    free or corruption"). Run in a child process so a crash fails this test only."""
    script = textwrap.dedent(
        """
        import io, threading
        from PIL import Image
        from skimage import data
        from haechi.analyze.faces.image import load_picture
        from haechi.analyze.faces.pipeline import FacePipeline
        from haechi.analyze.synthetic.faceswap.landmarks import faces as faces68

        def picture(size):
            img = Image.fromarray(data.astronaut()).crop((120, 20, 320, 240)).resize(size)
            buf = io.BytesIO(); img.save(buf, "PNG")
            return load_picture(io.BytesIO(buf.getvalue()), 2560)

        pictures = [picture((200, 220)), picture((400, 440)), picture((1000, 1100))]
        pipe = FacePipeline()
        errors = []

        def work(n):
            try:
                for i in range(12):
                    p = pictures[(n + i) % 3]
                    found = pipe.main_faces(p, 0.6) if i % 2 else pipe.faces(p)
                    assert found, "no face"
                    if i % 4 == 0:
                        faces68(p.rgb)
            except Exception as exc:
                errors.append(repr(exc))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
        for t in threads: t.start()
        for t in threads: t.join()
        print("errors", errors)
        assert not errors
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, (done.returncode, done.stdout[-500:], done.stderr[-2000:])
