"""The model: scikit-learn estimators and the training/prediction pipeline."""
