"""Live coaching: the camera window with instant cues, and the guided routine.

keys.py     key -> action          setup.py    set-up check and countdown (pure)
display.py  the highgui window     virtual_display.py  Xvfb for tests and benchmarks
"""
